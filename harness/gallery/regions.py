"""Azure public regions: which have availability zones, which need a feature registered before
they can be targets.

Seed 004 names Australia Central and Australia Central 2 as regions that need an access request;
the harness models that request as the feature below (its name is the harness's choice).
"""

from __future__ import annotations

RESTRICTED_FEATURE = "Microsoft.Compute/RestrictedRegionTargets"

DEFAULT_RESTRICTED: dict[str, str] = {
    "australiacentral": RESTRICTED_FEATURE,
    "australiacentral2": RESTRICTED_FEATURE,
}

# Regions with availability zones (seed 004: Standard_ZRS "for regions with Availability
# Zones"); which regions have them is the public region list's, not the seeds'.
_ZONE_REGIONS = """
eastus eastus2 southcentralus westus2 westus3 australiaeast southeastasia northeurope swedencentral
uksouth westeurope centralus southafricanorth centralindia eastasia japaneast koreacentral
canadacentral francecentral germanywestcentral italynorth norwayeast polandcentral switzerlandnorth
uaenorth brazilsouth israelcentral qatarcentral mexicocentral spaincentral newzealandnorth
centraluseuap eastus2euap
"""
_OTHER_REGIONS = """
northcentralus westus westcentralus southafricawest australiacentral
australiacentral2 australiasoutheast japanwest jioindiawest koreasouth southindia westindia
canadaeast francesouth germanynorth norwaywest switzerlandwest ukwest uaecentral brazilsoutheast
jioindiacentral swedensouth eastusstg southcentralusstg
"""
ZONE_REGIONS: frozenset[str] = frozenset(_ZONE_REGIONS.split())
KNOWN_REGIONS: frozenset[str] = ZONE_REGIONS | frozenset(_OTHER_REGIONS.split())

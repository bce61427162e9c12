"""Azure public regions, and which of them need a feature registered before they can be targets.

Seed 004 names Australia Central and Australia Central 2 as regions that need an access request;
the harness models that request as the feature below (its name is the harness's choice).
"""

from __future__ import annotations

RESTRICTED_FEATURE = "Microsoft.Compute/RestrictedRegionTargets"

DEFAULT_RESTRICTED: dict[str, str] = {
    "australiacentral": RESTRICTED_FEATURE,
    "australiacentral2": RESTRICTED_FEATURE,
}

_REGION_LIST = """
eastus eastus2 southcentralus westus2 westus3 australiaeast southeastasia northeurope swedencentral
uksouth westeurope centralus southafricanorth centralindia eastasia japaneast koreacentral
canadacentral francecentral germanywestcentral italynorth norwayeast polandcentral switzerlandnorth
uaenorth brazilsouth israelcentral qatarcentral mexicocentral spaincentral newzealandnorth
centraluseuap eastus2euap northcentralus westus westcentralus southafricawest australiacentral
australiacentral2 australiasoutheast japanwest jioindiawest koreasouth southindia westindia
canadaeast francesouth germanynorth norwaywest switzerlandwest ukwest uaecentral brazilsoutheast
jioindiacentral swedensouth eastusstg southcentralusstg
"""
KNOWN_REGIONS: frozenset[str] = frozenset(_REGION_LIST.split())

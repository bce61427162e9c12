"""The scenario file format, declared once; docs/scenarios.md explains each key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.packages.build import FORMATS
from harness.schema import Field

BLOB_TYPES = ("BlockBlob", "PageBlob", "AppendBlob")
STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")
OS_TYPES = ("Linux", "Windows")

PACKAGE = Field(dict, keys={
    "source": Field(str),
    "file": Field(str),
    "format": Field(str, choices=FORMATS),
    "vars": Field(dict, values=Field((str, int, float))),
    "member": Field(str),
    "content": Field(str),
    "url": Field(str),
    "blobType": Field(str, choices=BLOB_TYPES),
    "pad": Field(bool),
})

TARGET_REGIONS = Field(list, items=Field(dict, keys={
    "name": Field(str, required=True),
    "regionalReplicaCount": Field(int, minimum=1),
    "storageAccountType": Field(str, choices=STORAGE_ACCOUNT_TYPES),
    "regionalExcludeFromLatest": Field(bool),
}))
REPLICA_COUNT = Field(int, minimum=1)
STORAGE_ACCOUNT_TYPE = Field(str, choices=STORAGE_ACCOUNT_TYPES)
SCRIPT_BEHAVIOR = Field(str, choices=("None", "Rerun"))

# The short form: everything a version needs, flat.
SHORT_VERSION = Field(dict, keys={
    "package": replace(PACKAGE, required=True),
    "config": PACKAGE,
    "install": Field(str, required=True),
    "remove": Field(str, required=True),
    "update": Field(str, nullable=True),
    "packageFileName": Field(str),
    "configFileName": Field(str),
    "excludeFromLatest": Field(bool),
    "endOfLifeDate": Field(str),
    "targetRegions": TARGET_REGIONS,
    "replicaCount": REPLICA_COUNT,
    "storageAccountType": STORAGE_ACCOUNT_TYPE,
    "scriptBehaviorAfterReboot": SCRIPT_BEHAVIOR,
})

# The ARM form: a galleryApplicationVersion request body as Azure takes it, plus the harness's
# own ``package``/``config`` (built or inline) in place of the source links.
ARM_VERSION = Field(dict, keys={
    "location": Field(str),
    "package": PACKAGE,
    "config": PACKAGE,
    "properties": Field(dict, required=True, keys={
        "publishingProfile": Field(dict, required=True, keys={
            "source": Field(dict, keys={
                "mediaLink": Field(str),
                "defaultConfigurationLink": Field(str),
            }),
            "manageActions": Field(dict, required=True, keys={
                "install": Field(str, required=True),
                "remove": Field(str, required=True),
                "update": Field(str, nullable=True),
            }),
            "settings": Field(dict, keys={
                "packageFileName": Field(str),
                "configFileName": Field(str),
                "scriptBehaviorAfterReboot": SCRIPT_BEHAVIOR,
            }),
            "excludeFromLatest": Field(bool),
            "endOfLifeDate": Field(str),
            "targetRegions": TARGET_REGIONS,
            "replicaCount": REPLICA_COUNT,
            "storageAccountType": STORAGE_ACCOUNT_TYPE,
        }),
    }),
})


def is_arm(body: Any) -> bool:
    """ARM bodies wrap everything in ``properties``; the short form never has that key."""
    return isinstance(body, dict) and "properties" in body


def _shape(arm: Field, short: Field) -> Field:
    return Field(dict, select=lambda body: arm if is_arm(body) else short, shapes=(short, arm))


VERSIONS = Field(dict, required=True, values=_shape(ARM_VERSION, SHORT_VERSION))

SHORT_APPLICATION = Field(dict, keys={
    "supportedOSType": Field(str, choices=OS_TYPES),
    "description": Field(str),
    "versions": VERSIONS,
})

ARM_APPLICATION = Field(dict, keys={
    "location": Field(str),
    "properties": Field(dict, required=True, keys={
        "supportedOSType": Field(str, required=True, choices=OS_TYPES),
        "description": Field(str),
    }),
    "versions": VERSIONS,
})

APPLICATIONS = Field(dict, values=_shape(ARM_APPLICATION, SHORT_APPLICATION))

PROFILE_ENTRY = Field(dict, keys={
    "app": Field(str, required=True),
    "version": Field((str, int, float), required=True),
    "order": Field(int, nullable=True),
    "treatFailureAsDeploymentFailure": Field(bool),
    "enableAutomaticUpgrade": Field(bool),
    "config": PACKAGE,
    "tags": Field(str),
})

# Each check kind and the properties it can assert.
CHECK_KINDS: dict[str, dict[str, Field]] = {
    "file": {"exists": Field(bool), "is_directory": Field(bool), "mode": Field((str, int)),
             "owner": Field(str), "contains": Field(str)},
    "command": {"exit_code": Field(int, minimum=0, maximum=255), "stdout_contains": Field(str),
                "stderr_contains": Field(str)},
    "package": {"installed": Field(bool), "version": Field(str)},
    "service": {"running": Field(bool), "enabled": Field(bool)},
    "user": {"exists": Field(bool)},
    # Windows guests only (harness/checks_windows.py; file and command work there too)
    "registry": {"exists": Field(bool), "value": Field(str), "data": Field((str, int))},
    "product": {"installed": Field(bool), "version": Field(str)},
}
CHECK = Field(dict, keys={
    **{kind: Field(str) for kind in CHECK_KINDS},
    **{key: spec for wanted in CHECK_KINDS.values() for key, spec in wanted.items()},
})

APP_EXPECTATION = Field(dict, keys={
    "version": Field((str, int, float)),
    "result": Field(str),
    "result_contains": Field(str),
    "present": Field(bool),
})

# Each fault kind and the keys it takes besides ``kind``.  A new kind is a row here and a handler
# in harness/runner/faults.py (a unit test keeps the two in step) and a row in docs/scenarios.md.
FAULT_KEYS: dict[str, tuple[str, ...]] = {
    "blob-missing": ("app", "version"),
    "sas-expired": ("app", "version"),
    "command-fails": ("app", "version", "operation", "exit_code"),
    "network-cut": (),
    "network-restore": (),
    "power-cut": ("app",),
    "agent-killed": ("app",),
    "disk-full": ("free_kib",),
    "disk-freed": (),
    "storage-restart": ("seconds",),
}
# Faults that strike during the next goal state, while the named app's command runs.
FAULTS_MID_COMMAND = ("power-cut", "agent-killed")
FAULTS_ON_BLOBS = ("blob-missing", "sas-expired")
# disk-full: the room left where the agent downloads and installs (a tmpfs in the guest's memory,
# counted in 4 KiB pages: at least one).
MAX_FREE_KIB = 1024 * 1024
OPERATIONS = ("install", "update", "remove")

STEP_KEYS = {
    "deploy": Field(list, items=PROFILE_ENTRY),
    "update": Field(list, items=PROFILE_ENTRY),
    "remove": Field(list, items=Field(str)),
    "publish": Field(list, items=Field(dict, keys={
        "app": Field(str, required=True),
        "version": Field((str, int, float), required=True),
    })),
    "reboot": Field(dict, keys={}, nullable=True),
    "wait": Field((int, float), minimum=0, maximum=3600),
    "fault": Field(dict, keys={
        "kind": Field(str, required=True, choices=tuple(FAULT_KEYS)),
        "app": Field(str),
        "version": Field((str, int, float)),
        "operation": Field(str, choices=OPERATIONS),
        "exit_code": Field(int, minimum=1, maximum=255),
        "free_kib": Field(int, minimum=4, maximum=MAX_FREE_KIB),
        "seconds": Field((int, float), minimum=0, maximum=3600),
    }),
    "expect": Field(dict, keys={
        "extension": Field(str, choices=("success", "error")),
        "applications": Field(dict, values=APP_EXPECTATION),
        "checks": Field(list, items=CHECK),
        "service_error": Field(str),
        "publish_errors": Field(dict, values=Field(str, nullable=True)),
        "reboots": Field(int, minimum=0),
    }),
}

# Publishing options of an image version (a cached build of a recipe) in the cell's gallery:
# the application versions' names and meanings (seed 003/004).
IMAGE_VERSION = Field(dict, keys={
    "excludeFromLatest": Field(bool),
    "endOfLifeDate": Field(str),
    "targetRegions": TARGET_REGIONS,
    "replicaCount": REPLICA_COUNT,
    "storageAccountType": STORAGE_ACCOUNT_TYPE,
})
IMAGES = Field(dict, values=Field(dict, keys={
    "versions": Field(dict, values=IMAGE_VERSION),
    # The harness's own: cells skip on a host with fewer cached builds (image versions) of it.
    "needs_versions": Field(int, minimum=1, maximum=1000),
}))

INCLUDED = {
    "gallery": Field(dict, required=True, keys={
        "applications": replace(APPLICATIONS, required=True),
    }),
}

SCENARIO = {
    "description": Field(str, required=True),
    "rule": Field(str),
    "include": Field(list, items=Field(str)),
    "images": Field(list, items=Field(str)),
    "markers": Field(list, items=Field(str)),
    "gallery": Field(dict, keys={
        "location": Field(str),
        "applications": APPLICATIONS,
        "images": IMAGES,
    }),
    "vm": Field(dict, keys={
        "location": Field(str),
        "ready_seconds": Field(int, minimum=1, maximum=3600),
        # The VM's image in the gallery's terms: a version of an image definition (a recipe;
        # default: the cell's image) ...
        "image": Field(dict, keys={"definition": Field(str),
                                   "version": Field(str, required=True)}),
        # ... or an ARM storageProfile.imageReference, as written.
        "imageReference": Field(dict, keys={"id": Field(str, required=True)}),
    }),
    "agent": Field(dict, keys={
        "commandTimeoutSeconds": Field(int, minimum=1, maximum=86400),
        "interpreter": Field(str, choices=("/bin/sh", "/bin/bash")),
        "configNaming": Field(str, choices=("underscore", "hyphen")),
    }),
    "steps": Field(list, required=True),
}

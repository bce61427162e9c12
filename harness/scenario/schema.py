"""The scenario file format, declared once; docs/scenarios.md explains each key."""

from __future__ import annotations

from harness.packages.build import FORMATS
from harness.schema import Field

BLOB_TYPES = ("BlockBlob", "PageBlob", "AppendBlob")

PACKAGE = Field(dict, keys={
    "source": Field(str),
    "format": Field(str, choices=FORMATS),
    "vars": Field(dict, values=Field((str, int, float))),
    "member": Field(str),
    "content": Field(str),
    "url": Field(str),
    "blobType": Field(str, choices=BLOB_TYPES),
    "pad": Field(bool),
})

VERSION = Field(dict, keys={
    "package": PACKAGE,
    "config": PACKAGE,
    "install": Field(str, required=True),
    "remove": Field(str, required=True),
    "update": Field(str, nullable=True),
    "packageFileName": Field(str),
    "configFileName": Field(str),
    "excludeFromLatest": Field(bool),
    "endOfLifeDate": Field(str),
    "targetRegions": Field(list, items=Field(dict, keys={
        "name": Field(str, required=True),
        "regionalReplicaCount": Field(int),
        "storageAccountType": Field(str),
        "regionalExcludeFromLatest": Field(bool),
    })),
    "scriptBehaviorAfterReboot": Field(str, choices=("None", "Rerun")),
})

APPLICATION = Field(dict, keys={
    "supportedOSType": Field(str, choices=("Linux", "Windows")),
    "description": Field(str),
    "versions": Field(dict, required=True, values=VERSION),
})

PROFILE_ENTRY = Field(dict, keys={
    "app": Field(str, required=True),
    "version": Field((str, int, float), required=True),
    "order": Field(int, nullable=True),
    "treatFailureAsDeploymentFailure": Field(bool),
    "enableAutomaticUpgrade": Field(bool),
    "config": PACKAGE,
    "tags": Field(str),
})

CHECK = Field(dict, keys={
    "file": Field(str),
    "command": Field(str),
    "package": Field(str),
    "service": Field(str),
    "user": Field(str),
    "exists": Field(bool),
    "is_directory": Field(bool),
    "mode": Field((str, int)),
    "owner": Field(str),
    "contains": Field(str),
    "exit_code": Field(int),
    "stdout_contains": Field(str),
    "stderr_contains": Field(str),
    "installed": Field(bool),
    "version": Field(str),
    "running": Field(bool),
    "enabled": Field(bool),
})
CHECK_KINDS = ("file", "command", "package", "service", "user")

APP_EXPECTATION = Field(dict, keys={
    "version": Field((str, int, float)),
    "result": Field(str),
    "result_contains": Field(str),
    "present": Field(bool),
})

STEP_KEYS = {
    "deploy": Field(list, items=PROFILE_ENTRY),
    "update": Field(list, items=PROFILE_ENTRY),
    "remove": Field(list, items=Field(str)),
    "reboot": Field(dict, keys={}, nullable=True),
    "wait": Field((int, float), minimum=0, maximum=3600),
    "fault": Field(dict, keys={
        "kind": Field(str, required=True,
                      choices=("blob-missing", "sas-expired", "network-cut", "network-restore")),
        "app": Field(str),
        "version": Field((str, int, float)),
    }),
    "expect": Field(dict, keys={
        "extension": Field(str, choices=("success", "error")),
        "applications": Field(dict, values=APP_EXPECTATION),
        "checks": Field(list, items=CHECK),
        "service_error": Field(str),
        "reboots": Field(int, minimum=0),
    }),
}

SCENARIO = {
    "description": Field(str, required=True),
    "images": Field(list, items=Field(str)),
    "markers": Field(list, items=Field(str)),
    "gallery": Field(dict, required=True, keys={
        "location": Field(str),
        "applications": Field(dict, required=True, values=APPLICATION),
    }),
    "vm": Field(dict, keys={
        "location": Field(str),
    }),
    "agent": Field(dict, keys={
        "commandTimeoutSeconds": Field(int, minimum=1, maximum=86400),
        "interpreter": Field(str, choices=("/bin/sh", "/bin/bash")),
        "configNaming": Field(str, choices=("underscore", "hyphen")),
    }),
    "steps": Field(list, required=True, items=Field(dict)),
}

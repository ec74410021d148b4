#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Rewrite the Helm chart's probe lists from the registry: the `probes` enum and pattern of
# helm/lmp/values.schema.json and the names in the `probes` row of helm/lmp/README.md.
# tests/e2e/test_docs.sh fails when they differ from `lmp probes --names`; run this then.
#   usage: tools/sync-probe-lists.py [LMP]   (default build/lmp)
import json
import re
import subprocess
import sys

lmp = sys.argv[1] if len(sys.argv) > 1 else "build/lmp"
names = subprocess.run([lmp, "probes", "--names"], check=True, capture_output=True,
                       text=True).stdout.split()
if not names:
    sys.exit("sync-probe-lists: %s probes --names printed nothing" % lmp)
alt = "|".join(names)

path = "helm/lmp/values.schema.json"
schema = json.load(open(path))
forms = schema["properties"]["probes"]["oneOf"]
forms[0]["pattern"] = "^all$|^(%s)(,(%s))*$" % (alt, alt)
forms[1]["items"]["enum"] = names
with open(path, "w") as f:
    f.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")

path = "helm/lmp/README.md"
text = open(path).read()
row = re.compile(r"^(\| `probes` \| .*probe names: )[a-z0-9, ]*( \|)$", re.M)
if not row.search(text):
    sys.exit("sync-probe-lists: no `probes` row in %s" % path)
with open(path, "w") as f:
    f.write(row.sub(lambda m: m.group(1) + ", ".join(names) + m.group(2), text))

"""A stand-in for a developer tool the user signed in to: `az` (the Azure CLI) or `pwsh` (Azure
PowerShell), which cannot be installed and signed in here. It answers the one question Ferry asks
(a storage token) in the tool's own output shape, with a token it gets from the Entra stand-in's
managed identity endpoint (so Azurite accepts it), and logs each call's arguments.

Invoked as `developer_tool.py TOOL IMDS_HOST LOG ARGS...`; `FERRY_TEST_TOOL_SIGNED_OUT=1` makes it
answer as a tool nobody signed in to."""
import json
import os
import sys
import urllib.request

tool, imds, log, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with open(log, "a") as f:
    f.write(json.dumps({"tool": tool, "args": args}) + "\n")

if tool == "az":
    if args[:2] != ["account", "get-access-token"] or "--resource" not in args:
        sys.exit("stand-in az: only `account get-access-token --resource ...` is known")
    resource = args[args.index("--resource") + 1]
    if os.environ.get("FERRY_TEST_TOOL_SIGNED_OUT"):
        sys.stderr.write("ERROR: Please run 'az login' to setup account.\n")
        sys.exit(1)
else:
    script = args[-1] if args else ""
    if "Get-AzAccessToken" not in script or "-ResourceUrl '" not in script:
        sys.exit("stand-in pwsh: only Get-AzAccessToken -ResourceUrl '...' is known")
    resource = script.split("-ResourceUrl '")[1].split("'")[0]
    if os.environ.get("FERRY_TEST_TOOL_SIGNED_OUT"):
        sys.stderr.write("Get-AzAccessToken: Run Connect-AzAccount to login.\n")
        sys.exit(1)

request = urllib.request.Request(
    f"{imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}",
    headers={"Metadata": "true"},
)
answer = json.load(urllib.request.urlopen(request, timeout=20))
expires_on = int(answer["expires_on"])
if tool == "az":
    print(json.dumps({"accessToken": answer["access_token"], "expiresOn": "2030-01-01 00:00:00.000000",
                      "expires_on": expires_on, "subscription": "sub-1", "tenant": "t", "tokenType": "Bearer"}, indent=2))
else:
    print("WARNING: Upcoming breaking changes in the cmdlet 'Get-AzAccessToken'")
    print(json.dumps({"accessToken": answer["access_token"], "expires_on": expires_on}))

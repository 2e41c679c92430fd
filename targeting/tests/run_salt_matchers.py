# Run Salt's minion-side matchers on the cases of a fixture file; print the answers as JSON.
import json, sys, logging
logging.disable(logging.CRITICAL)
import salt.config, salt.loader
cfg = json.load(open(sys.argv[1]))
opts = salt.config.minion_config(None)
opts["id"] = cfg["id"]; opts["grains"] = cfg["grains"]; opts["pillar"] = cfg["pillar"]; opts["nodegroups"] = cfg["nodegroups"]
opts["file_client"] = "local"
matchers = salt.loader.matchers(opts)
out = []
for tgt, typ, delim in cfg["cases"]:
    try:
        fn = matchers[typ + "_match.match"]
        if typ == "nodegroup":
            r = fn(tgt, opts["nodegroups"])
        elif typ in ("grain","grain_pcre","pillar","pillar_pcre","pillar_exact"):
            r = fn(tgt, delimiter=delim)
        else:
            r = fn(tgt)
        out.append(bool(r))
    except Exception as e:
        out.append("error")
print(json.dumps(out))

changed_yes:
  cmd.run:
    - name: 'echo doing work; echo "changed=yes comment=\"x\""'
    - stateful: True

changed_no:
  cmd.run:
    - name: "echo changed=no comment='nothing to do'"
    - stateful: True

json_line:
  cmd.run:
    - name: 'echo prefix; echo "{\"changed\": true, \"comment\": \"from json\", \"extra\": 5}"'
    - stateful: True

extra_keys:
  cmd.run:
    - name: 'echo "changed=yes comment=ok widgets=3"'
    - stateful: True

stateful_fail:
  cmd.run:
    - name: 'echo "changed=yes comment=broken"; exit 2'
    - stateful: True

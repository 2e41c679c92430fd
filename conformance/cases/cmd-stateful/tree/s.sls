st:
  cmd.run:
    - name: "echo line; echo changed=yes comment='all good'"
    - stateful: True
st_no:
  cmd.run:
    - name: "echo changed=no"
    - stateful: True
envmap:
  cmd.run:
    - name: echo $A-$B
    - env:
        A: one
        B: two

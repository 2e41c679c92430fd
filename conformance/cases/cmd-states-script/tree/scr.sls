run_script:
  cmd.script:
    - source: salt://scripts/hello.sh
    - args: "one two"
    - cwd: @ROOT@/work

templated_script:
  cmd.script:
    - name: salt://scripts/tpl.sh
    - template: jinja
    - context:
        word: templated

base_state:
  cmd.run:
    - name: echo base
    - cwd: /tmp
    - env:
      - A: b

user_state:
  cmd.run:
    - name: echo user
    - use:
      - cmd: base_state

multi:
  file.directory:
    - names:
      - @ROOT@/work/x
      - @ROOT@/work/y:
        - mode: '0700'
    - makedirs: True
    - require:
      - cmd: base_state

too_slow:
  cmd.run:
    - name: sleep 5
    - timeout: 1

with_stdin:
  cmd.run:
    - name: tr a-z A-Z
    - stdin: "hello stdin"


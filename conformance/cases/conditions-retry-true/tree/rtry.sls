plain_retry:
  test.succeed_without_changes:
    - retry: True

second_time_lucky:
  cmd.run:
    - name: 'if [ -e @ROOT@/work/marker ]; then echo ok; else touch @ROOT@/work/marker; echo first; exit 1; fi'
    - retry:
        attempts: 3
        interval: 0

changed:
  test.succeed_with_changes

clean:
  test.succeed_without_changes

failed:
  test.fail_without_changes

failed2:
  test.fail_with_changes

watch_any_fires:
  cmd.wait:
    - name: echo fired
    - watch_any:
      - test: changed
      - test: clean

watch_any_with_failure:
  test.succeed_without_changes:
    - watch_any:
      - test: failed
      - test: changed

onfail_all_all_failed:
  test.succeed_with_changes:
    - onfail_all:
      - test: failed
      - test: failed2

onfail_all_one_ok:
  test.succeed_with_changes:
    - onfail_all:
      - test: failed
      - test: clean

onchanges_any_none:
  test.succeed_with_changes:
    - onchanges_any:
      - test: clean

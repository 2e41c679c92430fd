key1: from sls
other: 1

test: True

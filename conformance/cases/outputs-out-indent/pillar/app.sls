app:
  name: web
  ports: [80, 443]
  nested: {a: {b: c}}

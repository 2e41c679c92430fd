svc:
  ports:
    http: 80
    https: 443
  names: [x, y]

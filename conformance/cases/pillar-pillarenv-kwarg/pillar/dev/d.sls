where: dev

cluster_name: demo

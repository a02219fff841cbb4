"""reduce-cell tests (a regular package, so a site-packages ``tests`` package such as the one
netpyne 1.1 installs cannot shadow it)."""

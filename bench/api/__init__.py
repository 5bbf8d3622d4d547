"""API benchmark: the Lambda handlers against the raw DynamoDB calls they imply (``python -m bench.api``)."""

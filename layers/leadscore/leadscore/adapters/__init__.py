"""AWS access behind small ports, each with a DynamoDB/SNS/SQS adapter and an in-memory fake."""

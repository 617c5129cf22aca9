"""AWS CDK (Python) building blocks for production ML hosting on Amazon SageMaker."""

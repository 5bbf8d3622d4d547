"""The API contract: request and response models, by area."""

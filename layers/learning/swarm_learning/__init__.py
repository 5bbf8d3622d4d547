"""Domain package of the swarm learning service.

Shared by every Lambda function through the ``learning`` layer and importable as a plain
package: models, storage, errors and the domain maths live here; handlers stay thin.
"""

__version__ = "0.1.0"

"""Query function: every read (recommendations, statistics, trust, the dashboard's series)."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from swarm_learning import __version__
from swarm_learning.api.access import HEALTH_PATH
from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import register_error_handlers, resolver_options
from swarm_learning.api.routes import recommendation_reads, series_reads, trust_reads, workspace_settings
from swarm_learning.models.reads import HealthResponse

app = APIGatewayRestResolver(**resolver_options())
register_error_handlers(app)


@app.get(
    HEALTH_PATH,
    summary="Health check",
    description="The only route without authentication. Touches no data.",
    tags=["Health"],
    security=[],
)
def health() -> HealthResponse:
    return HealthResponse(status="ok", version=__version__)


app.include_router(recommendation_reads.router)
app.include_router(trust_reads.router)
app.include_router(series_reads.router)
app.include_router(workspace_settings.reads)

lambda_handler = api_handler(app)

"""The API's routers. Importing one registers its routes with FastAPI, which would load pydantic v1 for the
first of them: this package refuses it first (`missout_api.pydantic_v1`)."""

from missout_api.pydantic_v1 import keep_pydantic_v1_unloaded

keep_pydantic_v1_unloaded()

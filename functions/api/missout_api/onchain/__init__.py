"""The work of the routes that talk to the chain (reports, fairness), kept out of the route modules.

Those routes import their module from here inside the request, on first use: the chain stack it needs
(solana-py's client and httpx, the verifier, the program codec, Switchboard's account decoder) then loads
only in an execution environment that serves such a request, never at the cold start of one that serves the
database reads. SnapStart's `before_snapshot` imports every module in `MODULES`, so a restored snapshot pays
nothing on its first chain request.
"""

from __future__ import annotations

MODULES = ("missout_api.onchain.fairness", "missout_api.onchain.reports")

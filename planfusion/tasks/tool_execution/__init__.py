"""tool_execution: long-horizon tool use over a deterministic multi-backend simulator (BFCL v3 multi-turn /
tau-bench style). ``FAMILY`` is the TaskFamily object.

Layout: the modules every family has (see ``planfusion.tasks.family.TEMPLATE``), plus ``env/`` the simulator
and tool schemas (shared with the verifier: it is the world), ``scenarios/`` worlds and goal templates
(generator only), ``trajectory`` renders records, ``coherence`` finds requests that undo earlier ones,
``variety`` measures how varied a batch is.
"""

from __future__ import annotations

from planfusion.tasks.family import family_from_package

FAMILY = family_from_package(__name__)

__all__ = ["FAMILY"]

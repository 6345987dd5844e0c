"""Deliberately broken connectors, one per conformance rule: each breaks exactly the rule it
names in ``EXPECTED = (rule_id, what the failure message says)`` and exports ``CONNECTOR``.

They are built on the real vehicles (sync) and banks (deferred, batch, callbacks) connectors,
changing one thing, the way a connector author might get it wrong.
"""

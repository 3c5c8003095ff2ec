"""Private helpers shared by the whole package: validation at the public boundary
(:mod:`validation`), atomic file writes (:mod:`io`), floating-point guards (:mod:`numerics`) and
the error function for the exact GELU (:mod:`special`)."""

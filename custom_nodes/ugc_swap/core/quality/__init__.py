"""How good a swap came out, judged from frames the swap already had in hand: identity both ways, the
before/after sheet."""

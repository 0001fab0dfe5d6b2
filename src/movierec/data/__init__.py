"""The drop's data: layouts, parsing ratings and movies, splitting, and the curated tables."""

"""Using a fitted model: its tables for scoring, predicted ratings, and the top-N lists."""

"""The models: their parameters, the rating model's pieces (biases, ALS, taste profiles), the ranking
model, fitting them together, and writing them to the warehouse."""

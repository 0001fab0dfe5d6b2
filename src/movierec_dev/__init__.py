"""Developer tools, not shipped to Spark: a MovieLens-like drop generator and the GroupLens downloader."""

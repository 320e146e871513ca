"""HTTP routes (Powertools Routers) shared by the API functions."""

"""Static-site generator for a Spanish explainer of neural style transfer."""

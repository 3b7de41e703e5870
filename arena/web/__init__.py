"""What the browser and HTTP clients talk to: JSON routes, media, the Gradio app, admin, leaderboard view."""

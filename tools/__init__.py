"""Developer tools for lpn-site: screenshots and HTML validation of the built site."""

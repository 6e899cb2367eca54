"""Files in and out: images, tidy data, settings in links and files, CSV input, scripts."""

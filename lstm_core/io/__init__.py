"""Files in and out: images, tidy data, weights files, settings in links and files, CSV input,
scripts."""

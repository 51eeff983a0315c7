"""The app's screens: the runs list and one run."""

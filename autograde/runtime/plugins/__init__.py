"""nbgrader's configurable steps, as the course's ``nbgrader_config.py`` lists them."""

"""Run results (results.json) and what is rendered from them: JUnit XML and the HTML report."""

"""A node of a cluster on a PostgreSQL journal: which partitions it should run
(`balance`), running them and taking over the dead's (`node`), and routing each command to
the engine of its partition (`engines`)."""

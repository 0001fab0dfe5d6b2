"""Everything that touches the outside: Spark sessions, Hadoop filesystems, the warehouse, drops' sources."""

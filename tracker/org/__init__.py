"""组织与党员: regions, branches, party groups, members, cadres and user accounts."""

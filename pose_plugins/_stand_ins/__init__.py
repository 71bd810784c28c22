"""Stand-ins for optional third-party packages, loaded under the third-party name only when it is not installed.

``torchvision/`` here becomes ``torchvision`` through the start-up hook ``_pose_plugins_startup`` (see its
docstring and docs/installation.md); nothing imports these files
under their ``pose_plugins._stand_ins`` names.
"""

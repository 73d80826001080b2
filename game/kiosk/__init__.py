"""The kiosk: the Panda3D front end a citizen walks their street in.

Submodules import Panda3D; this package itself imports nothing, so that importing
``game`` stays cheap for tools that never open a window.
"""

"""Station camera monitor (摄像头在线监测): probes service-hall cameras and reports to the tracker.

The package never imports ``tracker``; the two share only the JSON contract in
``docs/contract.md``. ``cv2`` is imported in :mod:`monitor.probe` only.
"""

__version__ = "0.1.0"

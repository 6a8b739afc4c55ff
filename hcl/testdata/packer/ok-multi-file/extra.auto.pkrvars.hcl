packages = ["ufw"]

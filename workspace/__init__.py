"""The agent's desk during a call: the screen pop and its draft, dial-out, the phone's codes and states."""

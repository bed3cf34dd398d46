# The controller (and the one-shot configuration renderer): Python 3.11 on Debian 12.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng sox \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV HOTLINE_HOME=/var/lib/hotline/controller
ENTRYPOINT ["hotline"]
CMD ["serve"]

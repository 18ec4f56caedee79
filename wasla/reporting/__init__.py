"""What the merchant portal and the staff dashboard share of reporting: the CSV datasets
(`exports`), their filters (`filters`) and the streaming of a dataset as a download
(`csv_stream`). A layer of its own, between the top apps and invoicing, so neither top app
imports the other."""

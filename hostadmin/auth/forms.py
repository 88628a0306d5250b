"""Login form."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from hostadmin.text import clean_line


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[clean_line],
                       validators=[DataRequired(message="Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
